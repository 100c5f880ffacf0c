export interface Kill {
  component: string;
  at: string;
}
export declare const killsFile: (restartsFile: string) => string;
export declare function recordKill(home: string, component: string): void;
export declare function classifyRestarts<R extends { component: string; at: string }>(restarts: R[], kills: Kill[]): { crashes: R[]; killed: R[] };
