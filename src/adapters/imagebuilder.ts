import { GetImageCommand, type ImagebuilderClient } from '@aws-sdk/client-imagebuilder';
import { translateAwsError } from './aws-error.ts';

/** What the trigger needs of an Image Builder image: its AMIs and the pipeline that built it. */
export interface BuiltImage {
  readonly amis: readonly {
    readonly region?: string;
    readonly image?: string;
    readonly accountId?: string;
  }[];
  readonly sourcePipelineArn?: string;
}

/** GetImage for an image build version ARN (`arn:aws:imagebuilder:REGION:ACCOUNT:image/NAME/1.0.0/1`). */
export async function getBuiltImage(
  imagebuilder: ImagebuilderClient,
  imageBuildVersionArn: string,
): Promise<BuiltImage> {
  try {
    const { image } = await imagebuilder.send(new GetImageCommand({ imageBuildVersionArn }));
    return {
      amis: (image?.outputResources?.amis ?? []).map((ami) => ({
        ...(ami.region ? { region: ami.region } : {}),
        ...(ami.image ? { image: ami.image } : {}),
        ...(ami.accountId ? { accountId: ami.accountId } : {}),
      })),
      ...(image?.sourcePipelineArn ? { sourcePipelineArn: image.sourcePipelineArn } : {}),
    };
  } catch (error) {
    throw translateAwsError(error, `GetImage ${imageBuildVersionArn}`);
  }
}
