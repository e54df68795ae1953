export * from './containers/docker-gate';
