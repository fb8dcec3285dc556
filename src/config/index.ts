export { configFromEnvironment, CONFIG_ENV, loadConfig, parseConfig } from './load.ts';
export {
  gateOf,
  rolloutConfigSchema,
  wavesOf,
  type EffectiveWave,
  type GateConfig,
  type RefreshPreferencesConfig,
  type RolloutConfig,
  type RolloutConfigInput,
} from './schema.ts';
