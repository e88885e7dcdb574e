export { startServiceNowSim, type RunningServiceNowSim, type ServiceNowSimOptions, type JournalEntry } from './servicenow-sim';
export { startJiraSim, type RunningJiraSim, type JiraSimOptions, type SimComment } from './jira-sim';
export type { TicketSimFault, TicketSimLogEntry } from './sim-http';
