export { RunActions } from './RunActions';
export { TaskActions } from './TaskActions';
