variable "sso_instance_arn" {
  description = "ARN of the IAM Identity Center instance"
  type        = string
}

variable "permission_set_arn" {
  description = "ARN of the permission set that gets the inline policy"
  type        = string
}

data "aws_iam_policy_document" "lppg_generated_policy" {
  statement {
    sid     = "Cloudwatch"
    effect  = "Allow"
    actions = [
      "cloudwatch:DescribeAlarms",
    ]
    resources = [
      "*",
    ]
  }

  statement {
    sid     = "Ec2"
    effect  = "Allow"
    actions = [
      "ec2:DescribeInstances",
    ]
    resources = [
      "*",
    ]
  }

  statement {
    sid     = "Kms"
    effect  = "Allow"
    actions = [
      "kms:GenerateDataKey",
    ]
    resources = [
      "*",
    ]
  }

  statement {
    sid     = "S3"
    effect  = "Allow"
    actions = [
      "s3:GetBucketLocation",
      "s3:GetBucketPolicy",
      "s3:ListAllMyBuckets",
      "s3:ListBucket",
      "s3:PutObject",
    ]
    resources = [
      "*",
    ]
  }

  statement {
    sid     = "Sqs"
    effect  = "Allow"
    actions = [
      "sqs:CreateQueue",
      "sqs:GetQueueAttributes",
    ]
    resources = [
      "*",
    ]
  }
}

resource "aws_ssoadmin_permission_set_inline_policy" "lppg_generated_policy" {
  instance_arn       = var.sso_instance_arn
  permission_set_arn = var.permission_set_arn
  inline_policy      = data.aws_iam_policy_document.lppg_generated_policy.json
}
