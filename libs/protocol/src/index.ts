export * from './constants';
export * from './schema';
export * from './validate';
export * from './screen';
