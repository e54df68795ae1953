export type * from './model.messages';
