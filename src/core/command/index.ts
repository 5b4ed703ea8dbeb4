export * from './types.js';
export * from './registry.js';
export * from './execute.js';
export * from './json-schema.js';
export * from './scope.js';
