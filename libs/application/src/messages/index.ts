export * from './tokens';
export * from './url-safety';
export * from './money-format';
export * from './template-engine';
export * from './default-templates';
export * from './renderer';
export * from './links';
export * from './ports';
