export * from './admission';
export * from './capacity';
export * from './classification';
export * from './enforcement';
export * from './forecast';
export * from './placement';
export * from './placement-index';
export * from './resources';
