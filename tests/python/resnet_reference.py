"""A PyTorch ResNet written from the architecture (He et al. 2016; timm's and torchvision's
parameter names, bottleneck stride on the 3x3 conv as timm's "v1.5"), independent of vitc: it
reads the structure from the state dict alone (stem kernel, block type, blocks per stage, every
conv's width) and runs BatchNorm with the running statistics (eval). Besides the logits it writes
"macs": the multiply-accumulates the convolutions and the fc executed, counted from the shapes
they produced (per image).

    python3 resnet_reference.py WEIGHTS.safetensors IMAGES.safetensors OUT.safetensors
"""
import torch
import torch.nn.functional as F

from reference_util import run_reference


class Counter:
    def __init__(self):
        self.macs = 0

    def conv(self, x, weight, stride, padding):
        y = F.conv2d(x, weight, None, stride, padding)
        out_c, in_c, kh, kw = weight.shape
        self.macs += y.shape[2] * y.shape[3] * out_c * in_c * kh * kw
        return y


def batch_norm(x, w, p, eps=1e-5):
    return F.batch_norm(x, w[p + ".running_mean"], w[p + ".running_var"], w[p + ".weight"],
                        w[p + ".bias"], False, 0.0, eps)


def conv_bn(counter, x, w, conv, bn, stride):
    weight = w[conv + ".weight"]
    return batch_norm(counter.conv(x, weight, stride, weight.shape[2] // 2), w, bn)


def block(counter, x, w, p, stride, bottleneck):
    if bottleneck:
        y = F.relu(conv_bn(counter, x, w, p + "conv1", p + "bn1", 1))
        y = F.relu(conv_bn(counter, y, w, p + "conv2", p + "bn2", stride))
        y = conv_bn(counter, y, w, p + "conv3", p + "bn3", 1)
    else:
        y = F.relu(conv_bn(counter, x, w, p + "conv1", p + "bn1", stride))
        y = conv_bn(counter, y, w, p + "conv2", p + "bn2", 1)
    if p + "downsample.0.weight" in w:
        x = conv_bn(counter, x, w, p + "downsample.0", p + "downsample.1", stride)
    return F.relu(y + x)


def forward(w, images, args):
    counter = Counter()
    stem = w["conv1.weight"]
    imagenet_stem = stem.shape[2] == 7
    x = F.relu(conv_bn(counter, images, w, "conv1", "bn1", 2 if imagenet_stem else 1))
    if imagenet_stem:
        x = F.max_pool2d(x, 3, 2, 1)
    bottleneck = "layer1.0.conv3.weight" in w
    stage = 1
    while "layer%d.0.conv1.weight" % stage in w:
        j = 0
        while "layer%d.%d.conv1.weight" % (stage, j) in w:
            stride = 2 if stage > 1 and j == 0 else 1
            x = block(counter, x, w, "layer%d.%d." % (stage, j), stride, bottleneck)
            j += 1
        stage += 1
    pooled = x.mean((2, 3))
    counter.macs += w["fc.weight"].shape[0] * w["fc.weight"].shape[1]
    logits = F.linear(pooled, w["fc.weight"], w["fc.bias"])
    return {"logits": logits, "macs": torch.tensor([counter.macs], dtype=torch.int64)}


if __name__ == "__main__":
    run_reference(forward)
