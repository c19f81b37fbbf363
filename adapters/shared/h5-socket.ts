import { io } from 'socket.io-client';
import type { IoFactory } from '../shared-miniprogram';

/** uni-app's and Taro's H5 builds run in a browser page: socket.io-client's own WebSocket transport. */
export const h5Io: IoFactory = (url, options) => io(url, options as never) as unknown as ReturnType<IoFactory>;
