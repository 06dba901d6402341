/** End-to-end cases (see cases.ts) of the CRM and helpdesk templates (Salesforce, HubSpot, ServiceNow, Zoho Desk, Freshdesk, Intercom, Front, Gorgias, Help Scout, Gong). */
import type { ProviderCase } from './cases.js';

export const crmCases: Record<string, ProviderCase> = {};
