export * from './admission';
export * from './capacity';
export * from './classification';
export * from './enforcement';
export * from './placement';
export * from './resources';
