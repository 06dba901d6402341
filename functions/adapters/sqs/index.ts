/** The refresh queue on SQS (planner -> worker) and the wire format of its messages. */
export { formatRefreshMessage, MAX_SUBJECT_LENGTH, parseRefreshMessage } from './refresh-message.js';
export { MAX_BATCH_ENTRIES, SqsRefreshQueue, type SqsRefreshQueueOptions } from './refresh-queue.js';
