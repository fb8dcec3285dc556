export { configFromEnvironment, CONFIG_ENV, loadConfig, parseConfig } from './load.ts';
export {
  rolloutConfigSchema,
  type RefreshPreferencesConfig,
  type RolloutConfig,
  type RolloutConfigInput,
} from './schema.ts';
