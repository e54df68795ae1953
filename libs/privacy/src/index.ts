export * from './master-key';
export * from './personal-data-vault';
