export * from './admission';
export * from './capacity';
export * from './classification';
export * from './enforcement';
export * from './placement';
export * from './placement-index';
export * from './resources';
