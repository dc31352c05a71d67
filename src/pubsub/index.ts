export {
  Channel,
  ChannelClosedError,
  type ChannelErrorContext,
  type ChannelOptions,
  type MessageHandler,
  type SubscribeOptions,
  type Unsubscribe,
} from './channel.js';
export type { SseOptions } from './sse.js';
export { MAX_CHANNEL_BYTES } from './validate.js';
