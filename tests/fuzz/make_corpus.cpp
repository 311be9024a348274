// Writes the fuzzer's seed corpus: valid model files of every kind (small, so mutations stay
// cheap) and a few malformed ones, one file each, into the directory given as argument.
//   cmake --build <dir> --target eigenml_fuzz_make_corpus && <dir>/tests/fuzz/eigenml_fuzz_make_corpus tests/fuzz/corpus

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <string>
#include <vector>

#include "eigenml/io.hpp"

namespace {

namespace nn = eigenml::nn;
namespace io = eigenml::io;
std::filesystem::path dir;

void write(const std::string& name, const std::vector<std::byte>& bytes) {
  std::ofstream out(dir / name, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

void write(const std::string& name, const std::string& bytes) {
  std::ofstream out(dir / name, std::ios::binary);
  out << bytes;
}

std::string str(const std::vector<std::byte>& b) { return std::string(reinterpret_cast<const char*>(b.data()), b.size()); }

std::string raw(const std::string& header, const std::string& data) {
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[static_cast<std::size_t>(i)] = static_cast<char>((header.size() >> (8 * i)) & 0xFF);
  return out + header + data;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: eigenml_fuzz_make_corpus <output directory>\n";
    return 2;
  }
  dir = argv[1];
  std::filesystem::create_directories(dir);

  nn::Sequential<float> mlp;
  mlp.add(nn::Dense<float>(4, 3, 1));
  mlp.add(nn::ReLU<float>());
  mlp.add(nn::Dropout<float>(0.25));
  mlp.add(nn::Dense<float>(3, 2, 2));
  mlp.add(nn::Softmax<float>());
  write("valid_mlp_f32.safetensors", io::to_bytes(mlp));

  nn::Sequential<double> cnn;
  cnn.add(nn::Conv2D<double>({.in_channels = 1, .height = 4, .width = 4, .out_channels = 2, .kernel = 3, .stride = 1,
                              .padding = 1}));
  cnn.add(nn::LeakyReLU<double>(0.1));
  cnn.add(nn::MaxPool2D<double>({.channels = 2, .height = 4, .width = 4, .kernel = 2, .stride = 2}));
  cnn.add(nn::AvgPool2D<double>({.channels = 2, .height = 2, .width = 2, .kernel = 2, .stride = 1, .padding = 1}));
  cnn.add(nn::Flatten<double>());
  cnn.add(nn::Dense<double>(18, 2));
  write("valid_cnn_f64.safetensors", io::to_bytes(cnn));

  nn::Sequential<float> rec;
  rec.add(nn::RNN<float>({.input_size = 2, .hidden_size = 2, .seq_len = 2, .return_sequences = true}));
  rec.add(nn::LSTM<float>({.input_size = 2, .hidden_size = 2, .seq_len = 2, .return_sequences = true}));
  rec.add(nn::GRU<float>({.input_size = 2, .hidden_size = 2, .seq_len = 2}));
  nn::Sequential<float> head;
  head.add(nn::Dense<float>(2, 1));
  head.add(nn::Sigmoid<float>());
  rec.add(head);
  rec.add(nn::Tanh<float>());
  rec.add(nn::GELU<float>());
  write("valid_recurrent_nested_f32.safetensors", io::to_bytes(rec));

  eigenml::LinearRegression<double> lin;
  eigenml::Vector<double> coef(3);
  coef << 1, -2, 0.5;
  lin.set_params(coef, 0.25);
  write("valid_linear_regression.safetensors", io::to_bytes(lin));

  eigenml::LogisticRegression<float> bin({.C = std::numeric_limits<double>::infinity()});
  bin.set_params(eigenml::Matrix<float>::Constant(1, 2, 0.5f), eigenml::Vector<float>::Constant(1, -0.1f));
  write("valid_logistic_binary.safetensors", io::to_bytes(bin));
  eigenml::LogisticRegression<double> multi;
  multi.set_params(eigenml::Matrix<double>::Identity(3, 2), eigenml::Vector<double>::Zero(3));
  write("valid_logistic_multinomial.safetensors", io::to_bytes(multi));

  // Tensors only, as PyTorch writes them, for the load_weights path (Dense(4,3) ReLU Dense(3,2)).
  io::SafetensorsWriter w;
  w.add("0.weight", eigenml::Matrix<float>::Constant(3, 4, 0.1f), {3, 4});
  w.add("0.bias", eigenml::Matrix<float>::Zero(3, 1), {3});
  w.add("2.weight", eigenml::Matrix<float>::Constant(2, 3, -0.2f), {2, 3});
  w.add("2.bias", eigenml::Matrix<float>::Zero(2, 1), {2});
  write("valid_weights_only.safetensors", w.bytes());

  // Malformed seeds: each a near miss of a valid file.
  const std::string good = str(io::to_bytes(mlp));
  write("bad_truncated.safetensors", good.substr(0, good.size() - 5));
  write("bad_header_length.safetensors", std::string("\xff\xff\xff\xff\xff\xff\xff\x7f{}", 10));
  write("bad_json.safetensors", raw("{\"a\":{\"dtype\":\"F32\",", ""));
  write("bad_overlap.safetensors",
        raw(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
            std::string(8, '\0')));
  write("bad_shape_overflow.safetensors",
        raw(R"({"a":{"dtype":"F64","shape":[4294967296,4294967296,16],"data_offsets":[0,8]}})", std::string(8, '\0')));
  write("bad_architecture.safetensors",
        raw(R"({"__metadata__":{"format_version":"1","model":"Sequential","architecture":"{\"layers\":[{\"type\":\"Conv2D\",\"in_channels\":1,\"height\":4,\"width\":4,\"out_channels\":1,\"kernel\":5,\"stride\":1,\"padding\":0}]}"},"0.weight":{"dtype":"F32","shape":[1,1,5,5],"data_offsets":[0,100]},"0.bias":{"dtype":"F32","shape":[1],"data_offsets":[100,104]}})",
            std::string(104, '\0')));
  write("bad_metadata_type.safetensors", raw(R"({"__metadata__":{"format_version":1}})", ""));
  std::cout << "wrote the seed corpus to " << dir << "\n";
  return 0;
}
