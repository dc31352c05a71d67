export { chain, fanIn, previousResult } from './chain.js';
export { childValues } from './children.js';
export { FlowProducer, type FlowProducerOptions } from './producer.js';
export {
  type FailurePolicy,
  type FlowChild,
  type FlowJob,
  type FlowNodeIds,
  MAX_CHILDREN,
  MAX_DEPTH,
  MAX_FLOW_JOBS,
} from './types.js';
