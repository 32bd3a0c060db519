// config: the one YAML config file, validated once at start (errors name file,
// line and column). Trusts nothing it reads; reads no environment. Returns plain
// data that cli/ hands to each part.
export { type Config, type ListenerConfig, ConfigError, parseConfig, parseConfigWithSource, loadConfig, loadConfigWithSource, splitHostPort } from './config.ts';
export { exampleConfig } from './example.ts';
export { type ConfigKey, configKeys } from './keys.ts';
