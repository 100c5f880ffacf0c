export { Outbox } from './Outbox';
