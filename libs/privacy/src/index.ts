export * from './master-key';
export * from './master-keyring';
export * from './personal-data-vault';
