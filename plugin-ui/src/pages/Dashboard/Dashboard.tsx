import { Box, Heading, SimpleGrid, Stack, Stat, Table, useChakraContext } from '@chakra-ui/react';
import {
  BarElement,
  CategoryScale,
  Chart as ChartJS,
  Legend,
  LinearScale,
  LineElement,
  PointElement,
  Tooltip,
} from 'chart.js';
import type { ReactNode } from 'react';
import { Bar, Line } from 'react-chartjs-2';

import type { Stats } from '../../api/client';
import { EmptyState } from '../../components/EmptyState';
import { ErrorAlert } from '../../components/ErrorAlert';
import { LoadingState } from '../../components/LoadingState';
import { messages } from '../../i18n';
import { useFailedDeliveries, useStats } from '../../queries/useStats';

ChartJS.register(CategoryScale, LinearScale, PointElement, LineElement, BarElement, Tooltip, Legend);

const { dashboard: text } = messages;

const minutes = (seconds: number | null) => (seconds === null ? null : Math.round((seconds / 60) * 10) / 10);
const duration = (seconds: number | null) => (seconds === null ? messages.common.none : messages.common.duration(seconds));

// Canvas cannot read CSS variables, so charts take the theme's raw colours: mid-tones that read on
// light and dark backgrounds alike.
const useChartColors = () => {
  const system = useChakraContext();
  const color = (token: string) => String(system.token(`colors.${token}`, '#888888'));
  return { text: color('gray.500'), grid: 'rgba(128, 128, 128, 0.2)', blue: color('blue.500'), purple: color('purple.400'), green: color('green.500'), red: color('red.500') };
};

const Panel = ({ title, children }: { readonly title: string; readonly children: ReactNode }) => (
  <Stack gap="2" borderWidth="1px" rounded="md" p="4" as="section" aria-label={title}>
    <Heading size="sm" as="h3">
      {title}
    </Heading>
    {children}
  </Stack>
);

// The numbers behind each chart, for screen readers and for anyone who wants them exactly.
const DataTable = ({ head, rows }: { readonly head: readonly string[]; readonly rows: readonly (readonly ReactNode[])[] }) => (
  <Table.Root size="sm">
    <Table.Header>
      <Table.Row>
        {head.map((cell) => (
          <Table.ColumnHeader key={cell}>{cell}</Table.ColumnHeader>
        ))}
      </Table.Row>
    </Table.Header>
    <Table.Body>
      {rows.map((row) => (
        <Table.Row key={String(row[0])}>
          {row.map((cell, index) => (
            <Table.Cell key={head[index]}>{cell}</Table.Cell>
          ))}
        </Table.Row>
      ))}
    </Table.Body>
  </Table.Root>
);

const Charts = ({ stats }: { readonly stats: Stats }) => {
  const colors = useChartColors();
  const scales = {
    x: { ticks: { color: colors.text }, grid: { color: colors.grid } },
    y: { ticks: { color: colors.text }, grid: { color: colors.grid }, beginAtZero: true },
  };
  const legend = { labels: { color: colors.text } };
  const days = stats.latency.by_day;

  return (
    <SimpleGrid columns={{ base: 1, lg: 2 }} gap="4">
      <Panel title={text.latencyOver(stats.window_days)}>
        {days.length === 0 ? (
          <EmptyState label={text.latencyEmpty} />
        ) : (
          <Box h="64">
            <Line
              role="img"
              aria-label={text.latency}
              options={{ maintainAspectRatio: false, scales, plugins: { legend } }}
              data={{
                labels: days.map(({ day }) => day),
                datasets: [
                  { label: text.medianSeries, data: days.map(({ median_s }) => minutes(median_s)), borderColor: colors.blue, backgroundColor: colors.blue },
                  { label: text.p90Series, data: days.map(({ p90_s }) => minutes(p90_s)), borderColor: colors.purple, backgroundColor: colors.purple },
                ],
              }}
              fallbackContent={
                <DataTable
                  head={[text.day, text.medianSeries, text.p90Series]}
                  rows={days.map(({ day, median_s, p90_s }) => [day, minutes(median_s), minutes(p90_s)])}
                />
              }
            />
          </Box>
        )}
      </Panel>
      <Panel title={text.sla}>
        {stats.sla_by_dag.length === 0 ? (
          <EmptyState label={text.slaEmpty} />
        ) : (
          <Box h="64">
            <Bar
              role="img"
              aria-label={text.sla}
              options={{
                maintainAspectRatio: false,
                plugins: { legend },
                scales: { x: { ...scales.x, stacked: true }, y: { ...scales.y, stacked: true } },
              }}
              data={{
                labels: stats.sla_by_dag.map(({ dag_id }) => dag_id),
                datasets: [
                  { label: text.met, data: stats.sla_by_dag.map(({ met }) => met), backgroundColor: colors.green },
                  { label: text.breached, data: stats.sla_by_dag.map(({ breached }) => breached), backgroundColor: colors.red },
                ],
              }}
              fallbackContent={
                <DataTable
                  head={[text.dag, text.met, text.breached, text.warned, text.escalated, text.compliance]}
                  rows={stats.sla_by_dag.map(({ dag_id, met, breached, warned, escalated, compliance }) => [
                    dag_id,
                    met,
                    breached,
                    warned,
                    escalated,
                    text.percent(compliance),
                  ])}
                />
              }
            />
          </Box>
        )}
      </Panel>
    </SimpleGrid>
  );
};

const FailedDeliveries = () => {
  const { data, error } = useFailedDeliveries();
  const value =
    error !== null ? messages.common.none : data === undefined ? '…' : text.failedCount(data.count, data.more);

  return (
    <Stat.Root borderWidth="1px" rounded="md" p="3">
      <Stat.Label>{text.failedDeliveries}</Stat.Label>
      <Stat.ValueText color={data !== undefined && data.count > 0 ? 'fg.error' : undefined}>{value}</Stat.ValueText>
    </Stat.Root>
  );
};

/** The dashboard destination: how many wait, how long deciding takes, deadlines kept, deliveries lost. */
export const Dashboard = () => {
  const { data, error, isPending } = useStats();

  return (
    <Stack gap="4" p="4">
      <Heading size="lg">{text.title}</Heading>
      {isPending ? <LoadingState label={text.loading} /> : undefined}
      {error !== null ? <ErrorAlert error={error} title={text.loadFailed} /> : undefined}
      {data === undefined ? undefined : (
        <>
          <SimpleGrid columns={{ base: 2, md: 6 }} gap="4">
            <Stat.Root borderWidth="1px" rounded="md" p="3">
              <Stat.Label>{text.pending}</Stat.Label>
              <Stat.ValueText>{data.pending}</Stat.ValueText>
            </Stat.Root>
            <Stat.Root borderWidth="1px" rounded="md" p="3">
              <Stat.Label>{text.median}</Stat.Label>
              <Stat.ValueText>{duration(data.latency.median_s)}</Stat.ValueText>
            </Stat.Root>
            <Stat.Root borderWidth="1px" rounded="md" p="3">
              <Stat.Label>{text.p90}</Stat.Label>
              <Stat.ValueText>{duration(data.latency.p90_s)}</Stat.ValueText>
            </Stat.Root>
<FailedDeliveries />
            <Stat.Root borderWidth="1px" rounded="md" p="3">
              <Stat.Label>{text.failedEffects}</Stat.Label>
              <Stat.ValueText color={data.failed_effects > 0 ? 'fg.error' : undefined}>{data.failed_effects}</Stat.ValueText>
            </Stat.Root>
            <Stat.Root borderWidth="1px" rounded="md" p="3">
              <Stat.Label>{text.bypassed}</Stat.Label>
              <Stat.ValueText color={data.bypassed > 0 ? 'fg.error' : undefined}>{data.bypassed}</Stat.ValueText>
              {data.recent_bypasses.map((bypass) => (
                <Stat.HelpText key={bypass.id}>{text.bypass(bypass.dag_id, bypass.task_id, bypass.run_id)}</Stat.HelpText>
              ))}
            </Stat.Root>
          </SimpleGrid>
          <Charts stats={data} />
        </>
      )}
    </Stack>
  );
};
