import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';

/** Makes a conditional write: true if it was made, false if its condition refused it. */
export async function writeIfCondition(write: () => Promise<unknown>): Promise<boolean> {
  try {
    await write();
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
}
