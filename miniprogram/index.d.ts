export * from '../dist/types/entries/miniprogram';
export { default } from '../dist/types/entries/miniprogram';
