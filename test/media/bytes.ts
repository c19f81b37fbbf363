/**
 * Media bytes built by hand, with no native module (the simulator tests run under jsdom): a
 * solid or gradient RGB PNG and MPEG audio frames, each the smallest thing the server's type
 * sniffing and image decoding accept.
 */
import { crc32, deflateSync } from 'node:zlib';

/** An RGB PNG; `gradient` shades it from corner to corner (for screenshots), else one colour. */
export function handmadePng(width: number, height: number, gradient = false): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body) >>> 0);
    return Buffer.concat([len, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  const rows: Buffer[] = [];
  for (let y = 0; y < height; y++) {
    const row = Buffer.alloc(1 + width * 3, 0x80);
    row[0] = 0;
    if (gradient) for (let x = 0; x < width; x++) row.set([90 + Math.round((x / width) * 120), 140 + Math.round((y / height) * 80), 200], 1 + x * 3);
    rows.push(row);
  }
  return Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(Buffer.concat(rows))), chunk('IEND', Buffer.alloc(0))]);
}

/** MPEG-1 layer III frames (128 kbit/s, 44.1 kHz) of silence: what file-type calls audio/mpeg. */
export function mp3(frames = 10): Buffer {
  const b = Buffer.alloc(417 * frames);
  for (let i = 0; i < frames; i++) b.set([0xff, 0xfb, 0x90, 0x64], i * 417);
  return b;
}
