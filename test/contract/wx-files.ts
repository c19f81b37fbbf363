/**
 * Media for the mini-program contract runs: the user "chooses" a file on the phone (runtime.pickFiles,
 * then wx.chooseMedia / chooseMessageFile, as a page would call them), and downloads go through
 * wx.downloadFile to a temp file read back from disk.
 */
import { readFileSync } from 'node:fs';
import type { WxRuntime } from '../../testing';

export async function chooseOnPhone(runtime: WxRuntime, file: { bytes: Buffer; name: string; as: 'media' | 'file' | 'recording' }): Promise<unknown> {
  runtime.pickFiles({ bytes: file.bytes, name: file.name });
  const wx = runtime.wx as any;
  if (file.as === 'media') {
    const res = await new Promise<any>((resolve, reject) => wx.chooseMedia({ count: 1, mediaType: ['image', 'video'], success: resolve, fail: reject }));
    return res.tempFiles[0]; // the chooseMedia item itself
  }
  const res = await new Promise<any>((resolve, reject) => wx.chooseMessageFile({ count: 1, type: 'file', success: resolve, fail: reject }));
  // A chooseMessageFile item, or a bare temp path as RecorderManager's onStop gives.
  return file.as === 'file' ? res.tempFiles[0] : res.tempFiles[0].path;
}

export async function downloadOnPhone(runtime: WxRuntime, url: string): Promise<Buffer> {
  const wx = runtime.wx as any;
  const res = await new Promise<any>((resolve, reject) => wx.downloadFile({ url, success: resolve, fail: reject }));
  if (res.statusCode !== 200) throw new Error(`downloadFile: HTTP ${res.statusCode}`);
  return readFileSync(runtime.realPath(res.tempFilePath)!);
}
