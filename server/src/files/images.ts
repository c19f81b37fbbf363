import sharp from 'sharp';

/** Longer edge of thumbnails, px. */
export const THUMB_EDGE = 400;
/** Decoding bigger images is refused: a small file can decode to gigabytes (a pixel bomb). */
const MAX_PIXELS = 40_000_000;

export interface ProcessedImage {
  width: number;
  height: number;
  /** The served copy: orientation applied, EXIF (GPS included), XMP and ICC gone. */
  size: number;
  thumbMime: string;
}

/**
 * The copy others download and its thumbnail. sharp writes no metadata unless asked, so the copy
 * re-encoded here carries no GPS position, camera serial or time; `.rotate()` applies the EXIF
 * orientation first, so the picture stands as the phone showed it. An animated GIF keeps its frames.
 */
export async function processImage(input: string, mime: string, out: string, thumbOut: string): Promise<ProcessedImage> {
  const animated = mime === 'image/gif' || mime === 'image/webp';
  const open = (all: boolean) => sharp(input, { limitInputPixels: MAX_PIXELS, failOn: 'error', animated: all });
  const meta = await open(false).metadata();
  const base = open(animated && (meta.pages ?? 1) > 1).rotate();
  const encoded = mime === 'image/png' ? base.png() : mime === 'image/gif' ? base.gif() : mime === 'image/webp' ? base.webp({ quality: 90 }) : base.jpeg({ quality: 90 });
  const info = await encoded.toFile(out);
  const hasAlpha = !!meta.hasAlpha;
  const thumb = open(false).rotate().resize(THUMB_EDGE, THUMB_EDGE, { fit: 'inside', withoutEnlargement: true });
  await (hasAlpha ? thumb.png() : thumb.jpeg({ quality: 80 })).toFile(thumbOut);
  // An animated image's height in sharp's output is all frames stacked: one frame's is pageHeight.
  const height = info.pageHeight ?? info.height;
  return { width: info.width, height, size: info.size, thumbMime: hasAlpha ? 'image/png' : 'image/jpeg' };
}
