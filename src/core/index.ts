export { type AllReduceMean, allReduceMeanHook, setAllReduceMean } from './all-reduce.js';
export { tempPathBeside, writeFileAtomic } from './atomic-write.js';
export {
  BackendError,
  CallbackError,
  checkOptionKeys,
  DataError,
  type ErrorCode,
  invalidValue,
  TsfastError,
  ValueError,
} from './errors.js';
export { globalRandom, RandomGenerator, randomFor, setSeed } from './random.js';
export {
  checkArchiveEntry,
  checkRelativeRef,
  resolveInside,
  resolveInsideReal,
} from './safe-path.js';
