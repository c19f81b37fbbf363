// The mini-program bundle registers no default transports; the SocketTask transport is passed explicitly.
export const transports = {};
