/**
 * Follows the frame boundaries of one direction of a WebSocket byte stream (RFC 6455 section 5.2)
 * without keeping any payload, so that a connection can tell whether its peer is in the middle of
 * a message and when a message or a control frame ends: what the message-complete deadline of
 * WsConnection needs and ws does not expose. ws parses and checks the same bytes; this only counts.
 */
export class WsFrameTracker {
  /** Header bytes of the frame being read (at most 14: 2, 8 of extended length, 4 of mask). */
  readonly #header = new Uint8Array(14);
  #headerHave = 0;
  #payloadLeft = 0;
  #inPayload = false;
  #opcode = 0;
  #fin = false;
  /** A data message whose last frame (FIN) has not arrived: control frames may come between. */
  #fragmented = false;

  /** True while the peer is inside a frame or inside a fragmented data message. */
  get partial(): boolean {
    return this.#headerHave > 0 || this.#inPayload || this.#fragmented;
  }

  /**
   * Reads a chunk; returns how many units ended in it, a unit being a data message (all its
   * fragments) or a control frame outside one. Control frames between fragments end no unit: the
   * message around them is still incomplete.
   */
  push(chunk: Uint8Array): number {
    let ended = 0;
    let i = 0;
    while (i < chunk.length) {
      if (this.#inPayload) {
        const take = Math.min(this.#payloadLeft, chunk.length - i);
        this.#payloadLeft -= take;
        i += take;
        if (this.#payloadLeft === 0) ended += this.#frameEnded();
        continue;
      }
      this.#header[this.#headerHave++] = chunk[i++] ?? 0;
      const need = this.#headerLength();
      if (this.#headerHave < need) continue;
      this.#startPayload();
      if (this.#payloadLeft === 0) ended += this.#frameEnded();
    }
    return ended;
  }

  #headerLength(): number {
    if (this.#headerHave < 2) return 2;
    const second = this.#header[1] ?? 0;
    const len7 = second & 0x7f;
    return 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0) + (second & 0x80 ? 4 : 0);
  }

  #startPayload(): void {
    const h = this.#header;
    this.#fin = ((h[0] ?? 0) & 0x80) !== 0;
    this.#opcode = (h[0] ?? 0) & 0x0f;
    const len7 = (h[1] ?? 0) & 0x7f;
    let length = len7;
    if (len7 === 126) length = ((h[2] ?? 0) << 8) | (h[3] ?? 0);
    else if (len7 === 127) {
      // ws refuses anything over maxPayload; an absurd length only has to stay a finite number.
      length = 0;
      for (let k = 2; k < 10; k++) length = length * 256 + (h[k] ?? 0);
    }
    this.#headerHave = 0;
    this.#payloadLeft = length;
    this.#inPayload = length > 0;
  }

  #frameEnded(): number {
    this.#inPayload = false;
    if (this.#opcode >= 0x8) return this.#fragmented ? 0 : 1;
    this.#fragmented = !this.#fin;
    return this.#fin ? 1 : 0;
  }
}
