export {
  buildModel,
  type Dim,
  ELEMENT_TYPES,
  type ElementName,
  type GraphSpec,
  type NodeSpec,
  type ValueSpec,
} from './graph.js';
export { buildMlp, type MlpShape, mulberry32 } from './mlp.js';
