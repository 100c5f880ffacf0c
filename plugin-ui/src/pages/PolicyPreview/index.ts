export { PolicyPreview } from './PolicyPreview';
