export { LocalProcessRunner, type LocalProcessRunnerOptions } from './local/local-process.runner';
export { RunnersModule, type RunnersOptions } from './runners.module';
