export { Delegations } from './Delegations';
