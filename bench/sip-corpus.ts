/** The parse benchmark corpus: the four shapes a SIP edge sees most, as wire bytes. */
const CRLF = '\r\n';

function message(lines: string[], body = ''): string {
  return `${lines.join(CRLF)}${CRLF}${CRLF}${body}`;
}

const SDP = [
  'v=0', 'o=alice 2890844526 2890844526 IN IP4 192.0.2.10', 's=-', 'c=IN IP4 192.0.2.10', 't=0 0',
  'm=audio 49170 RTP/AVP 0 8 97 101', 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:8 PCMA/8000', 'a=rtpmap:97 opus/48000/2',
  'a=rtpmap:101 telephone-event/8000', 'a=fmtp:101 0-15', 'a=sendrecv', '',
].join(CRLF);

export const CORPUS: ReadonlyArray<{ readonly name: string; readonly text: string }> = [
  {
    name: 'OPTIONS',
    text: message([
      'OPTIONS sip:bob@biloxi.example.com SIP/2.0',
      'Via: SIP/2.0/TLS pc33.atlanta.example.com:5061;branch=z9hG4bKhjhs8ass877',
      'Max-Forwards: 70',
      'To: <sip:bob@biloxi.example.com>',
      'From: Alice <sip:alice@atlanta.example.com>;tag=1928301774',
      'Call-ID: a84b4c76e66710',
      'CSeq: 63104 OPTIONS',
      'Contact: <sips:alice@pc33.atlanta.example.com>',
      'Accept: application/sdp',
      'Content-Length: 0',
    ]),
  },
  {
    name: 'INVITE with SDP',
    text: message([
      'INVITE sips:bob@biloxi.example.com SIP/2.0',
      'Via: SIP/2.0/TLS pc33.atlanta.example.com:5061;branch=z9hG4bK776asdhds;rport',
      'Max-Forwards: 70',
      'Route: <sips:p1.atlanta.example.com;lr>',
      'To: Bob <sips:bob@biloxi.example.com>',
      'From: "Alice Liddell" <sips:alice@atlanta.example.com>;tag=1928301774',
      'Call-ID: a84b4c76e66710@pc33.atlanta.example.com',
      'CSeq: 314159 INVITE',
      'Contact: <sips:alice@pc33.atlanta.example.com;transport=tls>;+sip.instance="<urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6>"',
      'Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, NOTIFY, REFER, UPDATE',
      'Supported: replaces, timer, outbound, e2e-sec',
      'User-Agent: sipsec-bench/1.0',
      'Content-Type: application/sdp',
      `Content-Length: ${Buffer.byteLength(SDP)}`,
    ], SDP),
  },
  {
    name: 'REGISTER with 10 Contacts',
    text: message([
      'REGISTER sip:registrar.biloxi.example.com SIP/2.0',
      'Via: SIP/2.0/UDP bobspc.biloxi.example.com:5060;branch=z9hG4bKnashds7',
      'Max-Forwards: 70',
      'To: Bob <sip:bob@biloxi.example.com>',
      'From: Bob <sip:bob@biloxi.example.com>;tag=456248',
      'Call-ID: 843817637684230@998sdasdh09',
      'CSeq: 1826 REGISTER',
      ...Array.from({ length: 10 }, (_, i) => `Contact: <sip:bob@192.0.2.${i + 1}:5060;transport=udp>;expires=${3600 + i};q=0.${i}`),
      'Expires: 7200',
      'Authorization: Digest username="bob", realm="biloxi.example.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", uri="sip:registrar.biloxi.example.com", response="245f23415f11432b3434341c022"',
      'Content-Length: 0',
    ]),
  },
  {
    name: '200 OK with 8 Vias',
    text: message([
      'SIP/2.0 200 OK',
      ...Array.from({ length: 8 }, (_, i) => `Via: SIP/2.0/TCP proxy${i}.example.com:5060;branch=z9hG4bK${1000 + i}abcd;received=192.0.2.${i + 1}`),
      'Record-Route: <sip:p1.example.com;lr>, <sip:p2.example.com;lr>',
      'To: Bob <sip:bob@biloxi.example.com>;tag=a6c85cf',
      'From: Alice <sip:alice@atlanta.example.com>;tag=1928301774',
      'Call-ID: a84b4c76e66710',
      'CSeq: 314159 INVITE',
      'Contact: <sip:bob@192.0.2.4>',
      'Content-Length: 0',
    ]),
  },
];
