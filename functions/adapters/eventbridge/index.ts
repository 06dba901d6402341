/** Connection events on EventBridge. */
export {
  type ConnectionEventDetail,
  connectionEventDetail,
  DEFAULT_EVENT_SOURCE,
  EVENT_DETAIL_VERSION,
  EventBridgeEventSink,
  type EventBridgeEventSinkOptions,
  type EventPublishProblem,
} from './connection-events.js';
