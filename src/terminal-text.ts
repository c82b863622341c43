/**
 * Text from a peer (a reason phrase, header values, certificate names) made safe to print on a
 * terminal: C0 controls but tab and newline, DEL and the C1 controls are written as `\xHH`. An
 * ESC or a C1 CSI starts a terminal escape sequence: a server could otherwise retitle the window,
 * clear the screen or rewrite what the operator reads (`200 OK\x1b]0;pwned\x07`).
 */
export function terminalSafe(text: string): string {
  let out = '';
  let from = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09 && c !== 0x0a) || (c >= 0x7f && c <= 0x9f)) {
      out += `${text.slice(from, i)}\\x${c.toString(16).padStart(2, '0')}`;
      from = i + 1;
    }
  }
  return from === 0 ? text : out + text.slice(from);
}
