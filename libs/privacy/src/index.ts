export * from './master-key';
export * from './master-keyring';
export * from './key-roots';
export * from './personal-data-vault';
