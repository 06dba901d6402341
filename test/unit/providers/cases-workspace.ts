/** End-to-end cases (see cases.ts) of the workspace and telephony templates (Microsoft Entra ID / Teams, GoTo Connect, 3CX, Wildix, Vonage). */
import type { ProviderCase } from './cases.js';

export const workspaceCases: Record<string, ProviderCase> = {};
