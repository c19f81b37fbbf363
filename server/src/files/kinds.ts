/** What each kind of upload may be, by the type sniffed from its bytes (never the name or header). */
export type FileKind = 'image' | 'audio' | 'video' | 'file';

export const FILE_KINDS: readonly FileKind[] = ['image', 'audio', 'video', 'file'];

/** msgType → the kind its fileId must be (seed 000: 1 image, 2 file, 3 audio, 4 video). */
export const KIND_OF_MSG_TYPE: Readonly<Record<number, FileKind>> = { 1: 'image', 2: 'file', 3: 'audio', 4: 'video' };

/** A message whose data names an uploaded file, so its URLs are signed on the way out. */
export function isMedia(m: { msgType: number; data: unknown }): boolean {
  return KIND_OF_MSG_TYPE[m.msgType] !== undefined && m.data !== null && typeof m.data === 'object' && typeof (m.data as Record<string, unknown>).fileId === 'string';
}

/** Images sharp decodes and mini-program `<image>` shows; SVG is not one (it is a document). */
const IMAGE = new Set(['image/jpeg', 'image/png', 'image/gif', 'image/webp']);
/** WeChat's RecorderManager writes mp3, aac or wav; iOS and Android apps m4a, amr, ogg/opus. */
const AUDIO = new Set(['audio/mpeg', 'audio/aac', 'audio/x-m4a', 'audio/mp4', 'audio/wav', 'audio/ogg', 'audio/ogg; codecs=opus', 'audio/amr']);
/** What `<video>` plays on phones; chooseMedia gives mp4 (Android) or mov (iOS). */
const VIDEO = new Set(['video/mp4', 'video/quicktime', 'video/webm', 'video/x-m4v', 'video/3gpp']);

/** The kind a sniffed type belongs to as media; anything else can only be a plain file. */
export function mediaKindOf(mime: string | undefined): FileKind {
  if (!mime) return 'file';
  if (IMAGE.has(mime)) return 'image';
  if (AUDIO.has(mime)) return 'audio';
  if (VIDEO.has(mime)) return 'video';
  return 'file';
}

export function acceptedTypes(kind: FileKind): string {
  const list = kind === 'image' ? IMAGE : kind === 'audio' ? AUDIO : kind === 'video' ? VIDEO : undefined;
  return list ? [...list].join(', ') : 'any';
}
