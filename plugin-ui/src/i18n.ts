// Every string the user reads, in one place, so that translations have one file to replace.
export const messages = {
  approvals: {
    title: 'Approvals',
    loading: 'Loading approvals…',
    empty: 'No approvals are waiting for you.',
    loadFailed: 'Could not load approvals',
    columns: {
      dag: 'DAG',
      run: 'Run',
      task: 'Task',
      subject: 'Subject',
      created: 'Created',
      votes: 'Votes',
      actions: 'Decide',
    },
    noVotes: 'None yet',
    vote: (user: string, option: string) => `${user}: ${option}`,
    choose: (option: string, subject: string) => `${option} ${subject}`,
    recorded: (option: string, subject: string) =>
      `Your vote “${option}” on “${subject}” was recorded.`,
  },
  voteDialog: {
    choice: (option: string) => `You are voting “${option}”.`,
    reason: 'Reason',
    reasonHelp: 'Required. It is recorded with your vote.',
    cancel: 'Cancel',
    failed: 'Your vote was not recorded',
  },
  errors: {
    unexpected: 'Something went wrong.',
    unreachable: 'The approvals service could not be reached.',
    status: (status: number) => `The approvals service answered with HTTP ${status}.`,
  },
} as const;
