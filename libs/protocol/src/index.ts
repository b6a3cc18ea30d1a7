export * from './constants';
export * from './schema';
export * from './validate';
export * from './screen';
export * from './text';
