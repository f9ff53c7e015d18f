// What an entry point prints when it cannot start: what went wrong and what to do next, in one or two plain lines on
// stderr, once (no stack trace, no JSON copy of the same thing). The ways a first start fails each get their next step.
import { GET_A_MODEL, modelFolderFix } from '../models/verify.ts';
import { ModelFolderError } from '../pipeline/modelFolder.ts';
import { ENV_FILE, missingEnvFileHint } from './environment.ts';
import type { ConfigError } from '../config.ts';

/** A configuration that did not validate: every problem, then where to look (or, with no .env at all, how to make one). */
export function configFailure(err: ConfigError, envFile: string | undefined, seeAlso = '.env.example for every variable and its meaning'): string {
  return `imagine-bot: ${err.message}\n${envFile ? `Fix it in ${ENV_FILE}; see ${seeAlso}.` : missingEnvFileHint()}`;
}

/** The next step for an error that stopped the start, or undefined when the message says it all. */
function nextStep(err: unknown, modelDir: string): string | undefined {
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof ModelFolderError) {
    const fix = modelFolderFix(err);
    return fix.startsWith('there is no model there yet') ? `Fix: ${fix}.` : `Fix: ${fix}. Or use another model: ${GET_A_MODEL}; then set MODEL_DIR in .env to its folder.`;
  }
  // The model files themselves failed in the inference process (a bad ONNX file, a wrong signature).
  if ((err instanceof Error && err.name === 'ModelFolderError') || message.includes(modelDir)) {
    return `Fix: \`npm run models -- verify ${modelDir}\` says what is wrong with the model folder (MODEL_DIR) and how to fix it.`;
  }
  if (/could not log in to Discord/.test(message)) {
    if (/disallowed intents/i.test(message)) return 'Fix: turn on Message Content Intent in the developer portal (your application -> Bot -> Privileged Gateway Intents), or set MESSAGE_CONTENT_INTENT=false in .env.';
    if (/token|401|unauthorized/i.test(message)) return 'Fix: set DISCORD_TOKEN in .env to the bot token (developer portal -> your application -> Bot -> Reset Token).';
    return 'Fix: check that this machine can reach Discord (or the server DISCORD_API_URL names, when it is set).';
  }
  return undefined;
}

/** The lines to print when the bot could not start. */
export function startupFailure(err: unknown, config: { modelDir: string }): string {
  const message = err instanceof Error ? err.message : String(err);
  const subject = err instanceof ModelFolderError ? `the model folder (MODEL_DIR) is not usable: ${message}` : message;
  const step = nextStep(err, config.modelDir);
  return `imagine-bot could not start: ${subject}${step ? `\n${step}` : ''}`;
}
