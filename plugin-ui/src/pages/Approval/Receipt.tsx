import { Badge, Button, Code, DataList, Stack, Text } from '@chakra-ui/react';

import { ErrorAlert } from '../../components/ErrorAlert';
import { LoadingState } from '../../components/LoadingState';
import { messages } from '../../i18n';
import { useReceipt } from '../../queries/useReceipt';

const text = messages.approval.receipt;

type Props = {
  readonly approvalId: string;
};

/** Saves the JWS as a file, for `airgate verify-receipt` or an auditor's archive. */
const download = (approvalId: string, jws: string) => {
  const url = URL.createObjectURL(new Blob([jws], { type: 'application/jose' }));
  const link = document.createElement('a');
  link.href = url;
  link.download = `airgate-receipt-${approvalId}.jws`;
  link.click();
  URL.revokeObjectURL(url);
};

/** A decided approval's signed receipt: the key that signed it, the content it binds, and the JWS to download. */
export const Receipt = ({ approvalId }: Props) => {
  const { data, error, isPending } = useReceipt(approvalId);

  if (isPending) {
    return <LoadingState label={messages.common.loading} />;
  }
  if (error !== null) {
    return <ErrorAlert error={error} title={text.failed} />;
  }
  return (
    <Stack gap="2" align="start">
      <DataList.Root orientation="horizontal" size="sm">
        <DataList.Item>
          <DataList.ItemLabel>{text.key}</DataList.ItemLabel>
          <DataList.ItemValue gap="2" flexWrap="wrap">
            <Code wordBreak="break-all">{data.kid}</Code>
            <Badge colorPalette={data.verified ? 'green' : 'red'} variant="subtle">
              {data.verified ? text.verified : text.unverified}
            </Badge>
          </DataList.ItemValue>
        </DataList.Item>
        <DataList.Item>
          <DataList.ItemLabel>{text.content}</DataList.ItemLabel>
          <DataList.ItemValue>
            <Code wordBreak="break-all">{data.payload.content_digest}</Code>
          </DataList.ItemValue>
        </DataList.Item>
        <DataList.Item>
          <DataList.ItemLabel>{text.id}</DataList.ItemLabel>
          <DataList.ItemValue>
            <Code wordBreak="break-all">{data.digest}</Code>
          </DataList.ItemValue>
        </DataList.Item>
      </DataList.Root>
      <Button size="sm" variant="outline" onClick={() => download(approvalId, data.receipt)}>
        {text.download}
      </Button>
      <Text color="fg.muted" textStyle="sm">
        {text.help}
      </Text>
    </Stack>
  );
};
