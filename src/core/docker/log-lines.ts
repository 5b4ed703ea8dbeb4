import { redactText } from '../secrets/redact.js';

/**
 * A docker log buffer (not a TTY) is a run of frames, each an 8-byte header (stream, 3 zero bytes,
 * big-endian length) and its payload; returns the lines of all payloads in order.
 */
export function demuxLogLines(buf: Buffer): string[] {
  let text = '';
  let at = 0;
  while (at + 8 <= buf.length) {
    const len = buf.readUInt32BE(at + 4);
    text += buf.subarray(at + 8, at + 8 + len).toString('utf8');
    at += 8 + len;
  }
  return splitLines(text);
}

/**
 * The lines of a container's log as the daemon returns it: framed, or plain text for a container with a
 * TTY. Unknown (`tty` undefined, as a container listing does not say): framed when it starts with a
 * frame header (stream 0 to 2, three zero bytes), which text never does.
 */
export function logLines(buf: Buffer, tty?: boolean): string[] {
  const framed = tty === undefined ? buf.length >= 8 && buf[0]! <= 2 && buf[1] === 0 && buf[2] === 0 && buf[3] === 0 : !tty;
  return framed ? demuxLogLines(buf) : splitLines(buf.toString('utf8'));
}

/** The lines, every secret this process knows masked: a container's image is not trusted not to print what it was given. */
function splitLines(text: string): string[] {
  const lines = redactText(text).split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines.map((l) => l.replace(/\r$/, ''));
}
