export * from './containers/docker-gate';
export * from './given-when-then';
export * from './fakes';
