export { FAST_GRADIENTS, registerFastGradients } from './fast-gradients.js';
export { registerWasmTrainingKernels, WASM_TRAINING_KERNELS } from './register.js';
