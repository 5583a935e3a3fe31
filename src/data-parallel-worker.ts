/**
 * Entry of a data-parallel training worker thread (started by learner/data-parallel): the
 * whole package is imported first, so every tsfast layer, loss and kernel is registered in
 * the worker's own tfjs before it rebuilds the learner's model.
 */
import './index.js';
import { runDataParallelWorker } from './learner/data-parallel/worker.js';

runDataParallelWorker();
