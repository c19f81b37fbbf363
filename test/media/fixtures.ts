/**
 * Media fixtures made with sharp at test time (no binary files in the repository): a JPEG that
 * carries a GPS position and an EXIF orientation, PNGs of a given size, and a few byte strings
 * that only pretend to be media.
 */
import sharp from 'sharp';

/** A 300×100 JPEG stored sideways (EXIF orientation 6: shown rotated 90°, so 100×300), with GPS and a camera serial. */
export function gpsJpeg(): Promise<Buffer> {
  return sharp({ create: { width: 300, height: 100, channels: 3, background: { r: 200, g: 30, b: 30 } } })
    .jpeg()
    .withMetadata({ orientation: 6 })
    .withExifMerge({
      IFD0: { Make: 'TestPhone', Copyright: 'secret-owner' },
      IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '31/1 14/1 0/1', GPSLongitudeRef: 'E', GPSLongitude: '121/1 28/1 0/1' },
    })
    .toBuffer();
}

export function png(width: number, height: number, alpha = false): Promise<Buffer> {
  return sharp({ create: { width, height, channels: alpha ? 4 : 3, background: { r: 10, g: 120, b: 200, alpha: alpha ? 0.5 : 1 } } })
    .png()
    .toBuffer();
}

export { mp3 } from './bytes';

/** An ISO media (mp4) file header. */
export function mp4(bytes = 4096): Buffer {
  const b = Buffer.alloc(bytes);
  b.writeUInt32BE(24, 0);
  Buffer.from('ftypisom', 'latin1').copy(b, 4);
  b.writeUInt32BE(0x200, 12);
  Buffer.from('isomiso2mp41', 'latin1').copy(b, 16);
  return b;
}

/** A PDF's first bytes. */
export function pdf(): Buffer {
  return Buffer.from('%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n', 'latin1');
}
