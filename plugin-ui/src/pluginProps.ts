// The props Airflow hands a react app, from the page's route: strings, or undefined where the route has none.
export type PluginProps = {
  readonly dagId?: string;
  readonly runId?: string;
  readonly taskId?: string;
  readonly mapIndex?: string;
};
